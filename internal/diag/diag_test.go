package diag

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWarningsAreMarkedAndSeparable(t *testing.T) {
	list := List{
		{File: "p.yaml", Pos: Pos{Line: 9, Col: 5}, Path: "teams[0].alerting.receiver", Message: "receiver \"web\" notifies nobody",
			Hint: "define it", Severity: Warning},
		{File: "p.yaml", Pos: Pos{Line: 3, Col: 9}, Path: "metadata.name", Message: "missing"},
	}
	assert.Equal(t, "p.yaml:9:5: warning: teams[0].alerting.receiver: receiver \"web\" notifies nobody; hint: define it\n"+
		"p.yaml:3:9: metadata.name: missing", list.Error())
	assert.Equal(t, List{list[1]}, list.Errors())
	assert.Equal(t, List{list[0]}, list.Warnings())
	assert.Equal(t, List{list[1], list[0]}, list.Sorted(), "sorted by position whatever the severity")
}

func TestSortedKeepsAWarningAndAnErrorOfTheSameText(t *testing.T) {
	d := Diagnostic{File: "p.yaml", Pos: Pos{Line: 1, Col: 1}, Message: "m"}
	w := d
	w.Severity = Warning
	assert.Len(t, List{w, d, d}.Sorted(), 2)
}
