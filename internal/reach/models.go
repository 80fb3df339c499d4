package reach

// Open is the model of the open stance: no policies, everything allowed.
type Open struct{}

// Name describes the model.
func (Open) Name() string { return "no network policies (stance open)" }

// Allowed is always true.
func (Open) Allowed(Endpoint, Endpoint, string, int) (bool, error) { return true, nil }
