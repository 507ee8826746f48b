// Callbacks scheduled by callbacks wait behind those already waiting:
// first come, first served. Each of A, B and C schedules a child; all three
// parents run before any child.
for (const name of ['A', 'B', 'C']) {
  setTimeout(() => {
    console.log(name);
    setTimeout(() => console.log(name + ' child'), 0);
  }, 0);
}
