// mistake: one round only: ticks, then microtasks, and a tick queued by a microtask is left waiting
// region: drain
while let Some(tick) = queues(cx).ticks.pop_front() {
    run(cx, Job::Tick(tick));
}
while let Some(microtask) = queues(cx).microtasks.pop_front() {
    run(cx, Job::Microtask(microtask));
}
