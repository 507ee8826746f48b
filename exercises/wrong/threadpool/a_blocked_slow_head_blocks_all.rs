// mistake: only the oldest job of all is looked at: when it is a slow job the cap holds back, nothing runs, though a job behind it may
// region: take_next
let other = queue.jobs.first_key_value().map(|(&id, _)| id);
let slow = queue.slow_jobs.first_key_value().map(|(&id, _)| id);
match (other, slow) {
    (Some(other), Some(slow)) if slow < other => {
        if queue.running_slow < slow_limit {
            queue.slow_jobs.pop_first().map(|(_, job)| job)
        } else {
            None
        }
    }
    (Some(_), _) => queue.jobs.pop_first().map(|(_, job)| job),
    (None, Some(_)) if queue.running_slow < slow_limit => {
        queue.slow_jobs.pop_first().map(|(_, job)| job)
    }
    _ => None,
}
