// process.exitCode only sets the code the process ends with; the loop goes on,
// and 'beforeExit' hears the code. process.exit() ends the process at once:
// the rest of its callback, later timers and 'beforeExit' never run; 'exit' does.
process.on('beforeExit', (code) => {
  console.log('beforeExit', code);
  setTimeout(() => {
    console.log('timer set in beforeExit calls process.exit(4)');
    process.exit(4);
    console.log('never printed: process.exit() does not return');
  }, 1);
  setTimeout(() => console.log('never printed: a later timer'), 50);
});
process.on('exit', (code) => console.log('exit', code, '| process.exitCode:', process.exitCode));
setTimeout(() => {
  process.exitCode = 3;
  console.log('timer sets process.exitCode = 3');
}, 1);
