// mistake: run takes a snapshot of the queue and runs it once: tasks posted meanwhile wait for the next run
// region: run
let mut ran = 0;
for task in self.queue.take_all() {
    assert!(
        self.stack.is_empty(),
        "run-to-completion violated: the stack still holds {:?} before task `{}`",
        self.stack.trace().frames(),
        task.name
    );
    self.stack.push(task.name)?;
    (task.run)(self);
    self.stack.pop();
    self.tasks_run += 1;
    ran += 1;
}
Ok(ran)
