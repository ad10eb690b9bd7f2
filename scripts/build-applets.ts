// Placeholder until the runtime issue lands its applet build.
console.log("no applets yet");
