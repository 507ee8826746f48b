// mistake: WouldBlock (the kernel took nothing now) is reported to the callback as an error instead of queueing the bytes
// region: write
let mut written = 0;
if queue_empty && !connecting && !data.is_empty() {
    match write_once(lp, key, Some(data)) {
        Ok(n) => written = n,
        Err(e) => {
            feed(lp, key, callback, Err(e));
            return Ok(());
        }
    }
}
if written == data.len() {
    feed(lp, key, callback, Ok(()));
    return Ok(());
}
let n = net(lp);
n.stats.queued_writes += 1;
let requests = n.streams.get_mut(key).expect("live").requests();
requests.queued_bytes += data.len() - written;
requests.queue.push_back(WriteRequest {
    data: data[written..].to_vec(),
    written: 0,
    callback,
});
if !connecting {
    update_interest(lp, key);
}
Ok(())
