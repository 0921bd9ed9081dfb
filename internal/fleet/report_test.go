package fleet

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// resultWith is a Result of one changed cluster per StackPlan.
func resultWith(stacks ...StackPlan) *Result {
	res := &Result{Base: Revision{Name: "aaaaaaa"}, Head: Revision{Name: "bbbbbbb"}, Warnings: []Warning{}}
	for i, s := range stacks {
		res.Clusters = append(res.Clusters, ClusterPlan{Name: fmt.Sprintf("c%03d", i), Status: ClusterChanged, Stacks: []StackPlan{s}})
	}
	return res
}

func TestMarkdownContentCannotEscapeItsBlock(t *testing.T) {
	evil := "x\n```\n</details><script>alert(1)</script>\n````"
	s := StackPlan{Name: "apps", Path: "./apps", Status: StackChanged, Changed: []ObjectChange{{
		Object: ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: "a", Name: "b"},
		Fields: []FieldChange{{Path: "data.x", Op: FieldChanged, Before: `"a"`, After: evil}},
	}}}
	res := resultWith(s)
	res.Clusters[0].Warnings = []Warning{{Kind: WarnPrune, Cluster: "c000", Stack: "apps", Object: "ConfigMap a/b", Message: "<img src=x> | *bold*"}}
	var b bytes.Buffer
	if err := WriteMarkdown(&b, res); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "`````diff\n") {
		t.Errorf("the fence is not longer than the content's backticks:\n%s", out)
	}
	if strings.Contains(out, "<img") || strings.Contains(out, "| *bold*") {
		t.Errorf("a warning's text is not escaped:\n%s", out)
	}
	if n := strings.Count(out, "</details>"); n != 2 { // the section's own, and the one inside the code block
		t.Errorf("</details> appears %d times, want 2:\n%s", n, out)
	}
}

func TestMarkdownStaysUnderACommentsSize(t *testing.T) {
	var stacks []StackPlan
	for i := range 400 {
		var refs []ObjectRef
		for j := range 20 {
			refs = append(refs, ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: "ns", Name: fmt.Sprintf("object-%d-%d-with-a-long-name", i, j)})
		}
		stacks = append(stacks, StackPlan{Name: "apps", Path: fmt.Sprintf("./apps/%d", i), Status: StackChanged, Added: refs})
	}
	var b bytes.Buffer
	if err := WriteMarkdown(&b, resultWith(stacks...)); err != nil {
		t.Fatal(err)
	}
	if b.Len() > 65536 {
		t.Errorf("markdown is %d characters, over GitHub's 65536", b.Len())
	}
	if !strings.Contains(b.String(), "are left out to fit a comment") {
		t.Error("the clusters left out are not named")
	}
}

func TestTextGroupsClustersWithTheSameChangesAndColours(t *testing.T) {
	s := StackPlan{Name: "infra", Path: "./infra", Status: StackChanged, Removed: []ObjectRef{{Version: "v1", Kind: "Service", Namespace: "a", Name: "b"}}}
	res := resultWith(s, s, s)
	for i := range res.Clusters {
		res.Clusters[i].Warnings = []Warning{{Kind: WarnPrune, Cluster: res.Clusters[i].Name, Stack: "infra", Object: "Service a/b", Message: "will be deleted (pruned)"}}
	}
	var b bytes.Buffer
	red := func(s string) string { return "<red>" + s + "</red>" }
	if err := WriteText(&b, res, Style{Removed: red}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"3 clusters (c000, c001, c002): 0 added, 0 changed, 1 removed",
		"<red>- Service a/b</red>",
		"! 3 clusters (c000, c001, c002) / infra: Service a/b will be deleted (pruned)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
}
