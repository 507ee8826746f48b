// mistake: ticks are taken from the back of their queue: the newest tick runs first
// region: drain
loop {
    while let Some(tick) = queues(cx).ticks.pop_back() {
        run(cx, Job::Tick(tick));
    }
    while let Some(microtask) = queues(cx).microtasks.pop_front() {
        run(cx, Job::Microtask(microtask));
    }
    if queues(cx).ticks.is_empty() {
        break;
    }
}
