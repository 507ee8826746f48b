// mistake: a write the kernel took at once calls its callback right away, inside write, instead of from the pending phase
// region: write
let mut written = 0;
if queue_empty && !connecting && !data.is_empty() {
    match write_once(lp, key, Some(data)) {
        Ok(n) => written = n,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        Err(e) => {
            feed(lp, key, callback, Err(e));
            return Ok(());
        }
    }
}
if written == data.len() {
    lp.request_finished();
    callback(lp, Ok(()));
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
