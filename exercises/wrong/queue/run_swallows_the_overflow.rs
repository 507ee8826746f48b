// mistake: a task whose frame does not fit is skipped silently instead of reported as an error
// region: run
let mut ran = 0;
while let Some(task) = self.queue.pop() {
    assert!(
        self.stack.is_empty(),
        "run-to-completion violated: the stack still holds {:?} before task `{}`",
        self.stack.trace().frames(),
        task.name
    );
    if self.stack.push(task.name).is_err() {
        continue;
    }
    (task.run)(self);
    self.stack.pop();
    self.tasks_run += 1;
    ran += 1;
}
Ok(ran)
