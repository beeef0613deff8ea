// compose-check loads a Compose file the way `docker compose` does (compose-go: schema validation,
// interpolation, env_file reading) and prints the resolved project as YAML, or the error and exit 1.
// The tests use it on the ec2 host's rendered project; Docker Compose itself cannot be installed here.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: compose-check compose.yaml")
		os.Exit(2)
	}
	file, err := filepath.Abs(os.Args[1])
	if err == nil {
		var opts *cli.ProjectOptions
		opts, err = cli.NewProjectOptions([]string{file}, cli.WithWorkingDirectory(filepath.Dir(file)), cli.WithName("check"))
		if err == nil {
			var out []byte
			project, loadErr := opts.LoadProject(context.Background())
			if err = loadErr; err == nil {
				out, err = project.MarshalYAML()
				os.Stdout.Write(out)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
