// mistake: fast jobs always run before slow ones (a priority, not oldest-first with a cap on slow jobs)
// expect: the slow job queued first runs before the fast one
// region: take_next
if let Some((_, job)) = queue.jobs.pop_first() {
    return Some(job);
}
if queue.running_slow < slow_limit {
    return queue.slow_jobs.pop_first().map(|(_, job)| job);
}
None
