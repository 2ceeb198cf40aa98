package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/quarkgo/quark/internal/gen"
)

func newGenCmd() *cobra.Command {
	var (
		tags    string
		verbose bool
	)
	cmd := &cobra.Command{
		Use:   "gen [packages]",
		Short: "Generate quark_gen.go for the actor interfaces of packages",
		Long: `Gen writes quark_gen.go into each listed package that declares actor
interfaces (interface types marked //quark:actor) or types marked
//quark:codec, and removes a previously generated quark_gen.go from packages
that no longer declare any. Packages are given as for the go command; the
default is the current directory.

If any package has problems, they are listed one per line as
"file.go:LINE: reason", nothing is written, and gen exits with status 1.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg := &gen.Config{}
			if tags != "" {
				cfg.BuildFlags = []string{"-tags=" + tags}
			}
			pkgs, err := gen.Generate(cfg, args...)
			if err != nil {
				return err
			}
			if errs := gen.Errors(pkgs); errs != nil {
				return relative(errs)
			}
			for _, p := range pkgs {
				changed, err := p.Write()
				if err != nil {
					return err
				}
				if verbose && changed {
					if p.Output == nil {
						fmt.Fprintf(cmd.ErrOrStderr(), "removed %s\n", rel(p.File()))
					} else {
						fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s\n", rel(p.File()))
					}
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&tags, "tags", "", "comma-separated build tags to load packages with")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "report each file written or removed")
	return cmd
}

// relative rewrites the positions of errs relative to the current
// directory, as the go command prints them.
func relative(errs gen.ErrorList) gen.ErrorList {
	out := make(gen.ErrorList, len(errs))
	for i, e := range errs {
		c := *e
		c.Pos.Filename = rel(c.Pos.Filename)
		out[i] = &c
	}
	return out
}

func rel(path string) string {
	if path == "" || !filepath.IsAbs(path) {
		return path
	}
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	r, err := filepath.Rel(wd, path)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return path
	}
	return r
}
