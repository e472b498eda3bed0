package main

import (
	"os"

	"github.com/rovd/rovd/appliance/cli"
)

func main() {
	os.Exit(cli.Main(os.Args, os.Stdout, os.Stderr))
}
