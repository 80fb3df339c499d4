//go:build tools

// Package tools pins istioctl, which obsgen's tests run on every Istio
// object obsgen writes (istioctl validate, istioctl analyze offline). It is
// a module of its own so obsgen's go.mod does not inherit Istio's
// dependency set; `make bin/istioctl` builds it.
package tools

import _ "istio.io/istio/istioctl/cmd/istioctl"
