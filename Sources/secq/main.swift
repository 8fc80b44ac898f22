import SecCLI

SecqCommand.runMain()
