// Placeholder until the runtime issue lands its demo.
console.log("machinefi: nothing to start yet");
