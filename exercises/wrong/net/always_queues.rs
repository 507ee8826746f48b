// mistake: every write is queued and waits for writability, even when nothing is queued and the kernel would take it now
// region: write
let n = net(lp);
n.stats.queued_writes += 1;
let requests = n.streams.get_mut(key).expect("live").requests();
requests.queued_bytes += data.len();
requests.queue.push_back(WriteRequest {
    data: data.to_vec(),
    written: 0,
    callback,
});
if !connecting {
    update_interest(lp, key);
}
Ok(())
