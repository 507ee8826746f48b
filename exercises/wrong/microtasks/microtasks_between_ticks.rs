// mistake: the microtasks drain after every single tick, not after the whole tick queue
// region: drain
loop {
    if let Some(tick) = queues(cx).ticks.pop_front() {
        run(cx, Job::Tick(tick));
    }
    while let Some(microtask) = queues(cx).microtasks.pop_front() {
        run(cx, Job::Microtask(microtask));
    }
    if queues(cx).ticks.is_empty() {
        break;
    }
}
