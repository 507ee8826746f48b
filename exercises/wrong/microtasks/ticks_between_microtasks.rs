// mistake: after every microtask the ticks it queued run at once, before the other microtasks
// region: drain
loop {
    while let Some(tick) = queues(cx).ticks.pop_front() {
        run(cx, Job::Tick(tick));
    }
    match queues(cx).microtasks.pop_front() {
        Some(microtask) => run(cx, Job::Microtask(microtask)),
        None => break,
    }
}
