// mistake: run does not check that the stack is empty before a task (run-to-completion goes unchecked)
// region: run
let mut ran = 0;
while let Some(task) = self.queue.pop() {
    self.stack.push(task.name)?;
    (task.run)(self);
    self.stack.pop();
    self.tasks_run += 1;
    ran += 1;
}
Ok(ran)
