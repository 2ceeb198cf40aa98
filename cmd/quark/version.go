package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version returns the version of the module the command was built from:
// its tag when built as a dependency, or "devel" inside the quark module.
func version() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		if v := info.Main.Version; v != "" && v != "(devel)" {
			return v
		}
	}
	return "devel"
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of quark",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, args []string) {
			fmt.Fprintf(cmd.OutOrStdout(), "quark %s (%s %s/%s), generating for quark.SupportPackageIsVersion4\n",
				version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
		},
	}
}
