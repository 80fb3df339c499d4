package output

// SetCrashPoint replaces the hook called before every change to disk and
// returns a function restoring the previous one.
func SetCrashPoint(f func(step string)) (restore func()) {
	old := crashPoint
	crashPoint = f
	return func() { crashPoint = old }
}

// HoldLock takes the run lock of root as a concurrent run would.
func HoldLock(root string) (release func(), err error) {
	t, err := openTree(root)
	if err != nil {
		return nil, err
	}
	l, err := acquireLock(t)
	if err != nil {
		t.close()
		return nil, err
	}
	return func() { l.release(); t.close() }, nil
}

// ParsePending exposes the pending-record reader to the fuzz target.
func ParsePending(data []byte) error {
	_, err := parsePending(data)
	return err
}
