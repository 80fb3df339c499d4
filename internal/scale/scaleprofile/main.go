// Command scaleprofile writes an example profile grown to n teams, for
// whole-process timings:
//
//	go run ./internal/scale/scaleprofile -teams 1000 profiles/calico-global-deny.yaml > big.yaml
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/scale"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("scaleprofile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	teams := fs.Int("teams", 1000, "number of teams in the written profile")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: scaleprofile -teams N PROFILE.yaml")
		return 2
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	var base v1alpha1.Profile
	if err := yaml.Unmarshal(data, &base); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", fs.Arg(0), err)
		return 1
	}
	p, err := scale.Teams(&base, *teams)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	out, err := yaml.Marshal(p)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	_, err = stdout.Write(out)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}
