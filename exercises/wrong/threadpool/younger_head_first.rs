// mistake: the comparison of the two heads is reversed: of the two oldest jobs, the younger runs first
// region: take_next
let other = queue.jobs.first_key_value().map(|(&id, _)| id);
let slow = match queue.slow_jobs.first_key_value() {
    Some((&id, _)) if queue.running_slow < slow_limit => Some(id),
    _ => None,
};
let from = match (other, slow) {
    (Some(other), Some(slow)) if slow > other => &mut queue.slow_jobs,
    (Some(_), _) => &mut queue.jobs,
    (None, Some(_)) => &mut queue.slow_jobs,
    (None, None) => return None,
};
from.pop_first().map(|(_, job)| job)
