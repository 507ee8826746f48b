// mistake: a slow job that may run always goes before other jobs, even older ones
// region: take_next
if queue.running_slow < slow_limit
    && let Some((_, job)) = queue.slow_jobs.pop_first()
{
    return Some(job);
}
queue.jobs.pop_first().map(|(_, job)| job)
