import SecCLI

await SecqCommand.main()
