// `npm start` will run a homeserver (embedded SQLite and the web client).
// The homeserver does not exist yet: say so plainly instead of pretending.
process.stdout.write(
  [
    "Parley: the homeserver is not built yet.",
    "What exists today: the protocol core (packages/protocol) and the Raft core (packages/raft).",
    "Run the tests with: npm test",
    "",
  ].join("\n"),
);
