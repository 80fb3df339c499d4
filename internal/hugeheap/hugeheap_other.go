//go:build !linux

package hugeheap

func advise(int) Decision {
	return Decision{Reason: "transparent huge pages are a Linux feature"}
}

func release(lo, hi uintptr) {}
