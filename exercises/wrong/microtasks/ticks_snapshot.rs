// mistake: the ticks queued so far run as one batch; a tick queued by a tick waits behind the microtasks
// region: drain
loop {
    let ticks = std::mem::take(&mut queues(cx).ticks);
    for tick in ticks {
        run(cx, Job::Tick(tick));
    }
    while let Some(microtask) = queues(cx).microtasks.pop_front() {
        run(cx, Job::Microtask(microtask));
    }
    if queues(cx).ticks.is_empty() {
        break;
    }
}
