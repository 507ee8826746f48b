// mistake: the microtask queue is drained before the tick queue
// region: drain
loop {
    while let Some(microtask) = queues(cx).microtasks.pop_front() {
        run(cx, Job::Microtask(microtask));
    }
    while let Some(tick) = queues(cx).ticks.pop_front() {
        run(cx, Job::Tick(tick));
    }
    if queues(cx).microtasks.is_empty() {
        break;
    }
}
