// edge-agent: the board daemon (placeholder entry; subcommands arrive with the runtime).
print("edge-agent")
