import BuildchainCLI

await Buildchain.runAndExit()
