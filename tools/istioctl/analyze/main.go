// Command istio-analyze runs Istio's configuration analyzers (the ones
// `istioctl analyze` runs) over YAML files that stand for a whole cluster:
// the Istio objects under test and the cluster's namespaces, pods and
// services. `istioctl analyze --use-kube=false` leaves runtime resources
// (pods, namespaces, services) in files out of the analysis
// (pkg/config/analysis/local/istiod_analyze.go AddReaderKubeSource), so
// selectors and namespace references can only be checked against a live
// cluster; this command feeds the files as that cluster instead
// (AddTestReaderKubeSource), with istioctl's defaults for files-only
// analysis, every namespace analyzed, and prints the messages as
// `istioctl analyze -o json` does. obsgen's tests build it next to
// istioctl; it is not part of obsgen.
//
// Usage: istio-analyze [-istio-namespace NS] FILE...
package main

import (
	"flag"
	"fmt"
	"os"

	"istio.io/istio/istioctl/pkg/util/formatting"
	"istio.io/istio/pkg/config/analysis/analyzers"
	"istio.io/istio/pkg/config/analysis/diag"
	"istio.io/istio/pkg/config/analysis/local"
	"istio.io/istio/pkg/config/resource"
	"istio.io/istio/pkg/log"
)

func main() {
	istioNamespace := flag.String("istio-namespace", "istio-system", "the namespace istiod runs in")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: istio-analyze [-istio-namespace NS] FILE...")
		os.Exit(2)
	}
	if err := run(*istioNamespace, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "istio-analyze:", err)
		os.Exit(1)
	}
}

func run(istioNamespace string, files []string) error {
	// The analyzers' caches log every sync at info.
	for _, s := range log.Scopes() {
		s.SetOutputLevel(log.ErrorLevel)
	}
	sa := local.NewIstiodAnalyzer(analyzers.AllCombined(), "", resource.Namespace(istioNamespace), nil)
	var readers []local.ReaderSource
	for _, f := range files {
		r, err := os.Open(f)
		if err != nil {
			return err
		}
		defer r.Close()
		readers = append(readers, local.ReaderSource{Name: f, Reader: r})
	}
	// First: the file source is created with runtime resources included,
	// and the defaults below are added to it.
	if err := sa.AddTestReaderKubeSource(readers); err != nil {
		return fmt.Errorf("read files: %w", err)
	}
	if err := sa.AddDefaultResources(); err != nil {
		return err
	}
	cancel := make(chan struct{})
	defer close(cancel)
	result, err := sa.Analyze(cancel)
	if err != nil {
		return err
	}
	out, err := formatting.Print(result.Messages.SetDocRef("istioctl-analyze").FilterOutLowerThan(diag.Info), formatting.JSONFormat, false)
	if err != nil {
		return err
	}
	fmt.Println(out)
	return nil
}
