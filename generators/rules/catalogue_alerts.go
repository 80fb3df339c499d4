package rules

import (
	"fmt"
	"math"
	"strconv"

	"obsgen.dev/obsgen/internal/alertcatalog"
)

// The alert catalogue lives in package catalog, which profile validation
// reads without importing the generator.
type Threshold = alertcatalog.Threshold

var (
	Thresholds  = alertcatalog.Thresholds
	AlertGroups = alertcatalog.AlertGroups
	TeamAlerts  = alertcatalog.TeamAlerts
)

// ratio writes a percentage as a ratio: 25 → 0.25.
func ratio(pct float64) string { return strconv.FormatFloat(pct/100, 'f', -1, 64) }

// percent writes a percentage for an annotation: 25 → 25%.
func percent(pct float64) string { return strconv.FormatFloat(pct, 'f', -1, 64) + "%" }

// above is half-way between a percentage and 100.
func above(pct float64) float64 { return (pct + 100) / 2 }

// perMille writes a counter that grows by pct per mille of 1000 a minute.
func perMille(pct float64) string { return fmt.Sprintf("0+%dx40", int(math.Floor(pct*10))) }
