// mistake: the older head is taken whatever its kind: slow jobs can fill every thread
// region: take_next
let other = queue.jobs.first_key_value().map(|(&id, _)| id);
let slow = queue.slow_jobs.first_key_value().map(|(&id, _)| id);
let from = match (other, slow) {
    (Some(other), Some(slow)) if slow < other => &mut queue.slow_jobs,
    (Some(_), _) => &mut queue.jobs,
    (None, Some(_)) => &mut queue.slow_jobs,
    (None, None) => return None,
};
from.pop_first().map(|(_, job)| job)
