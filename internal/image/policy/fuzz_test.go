package policy

import (
	"slices"
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// FuzzSemverChoose checks, for any tags, that the winner is one of them,
// in range, and that no other candidate is ahead of it.
func FuzzSemverChoose(f *testing.F) {
	f.Add(">=1.0.0", "1.0.0,v1.2.3,latest,1.2.3-rc.1,2.0")
	f.Add("^0.x", "0.1,0.0.1,v0.9.9+build,x")
	f.Add("~1.2 || >3", "1.2.9,3.0.1,4,v1.2")
	f.Fuzz(func(t *testing.T, rng, list string) {
		p, err := New(semverSpec(rng))
		if err != nil {
			return
		}
		checkChoice(t, p, strings.Split(list, ","))
	})
}

// FuzzOrders checks the alphabetical and numerical orders the same way.
func FuzzOrders(f *testing.F) {
	f.Add("b,a,c", true)
	f.Add("10,9,1e3,-0,NaN,0x10", false)
	f.Fuzz(func(t *testing.T, list string, desc bool) {
		o := v1alpha1.SortAscending
		if desc {
			o = v1alpha1.SortDescending
		}
		for _, spec := range []v1alpha1.ImagePolicySpec{alphabetical(o), numerical(o)} {
			p, err := New(spec)
			if err != nil {
				t.Fatal(err)
			}
			checkChoice(t, p, strings.Split(list, ","))
		}
	})
}

// FuzzExtract templating: never panics, and the winner matches the
// pattern.
func FuzzExtract(f *testing.F) {
	f.Add(`^main-(?P<ts>[0-9]+)$`, "$ts", "main-1,main-20,dev-3")
	f.Add(`(?P<a>\w+)-(?P<b>\d+)`, "${b}${a}", "x-1,y-22")
	f.Add(`(.*)`, "$1$2${", "a,b")
	f.Fuzz(func(t *testing.T, pattern, extract, list string) {
		p, err := New(withFilter(alphabetical(v1alpha1.SortAscending), pattern, extract))
		if err != nil {
			return
		}
		ex := checkChoice(t, p, strings.Split(list, ","))
		if ex.Winner != "" && p.pattern != nil && !p.pattern.MatchString(ex.Winner) {
			t.Fatalf("winner %q does not match %q", ex.Winner, pattern)
		}
	})
}

func checkChoice(t *testing.T, p *Policy, tags []string) Explanation {
	t.Helper()
	ex := p.Choose(tags)
	if len(ex.Candidates)+len(ex.Excluded) != len(tags) {
		t.Fatalf("%d candidates and %d excluded of %d tags", len(ex.Candidates), len(ex.Excluded), len(tags))
	}
	if ex.Winner == "" {
		if len(ex.Candidates) > 0 {
			t.Fatal("candidates but no winner")
		}
		return ex
	}
	if !slices.Contains(tags, ex.Winner) {
		t.Fatalf("winner %q is not one of the tags", ex.Winner)
	}
	for _, c := range ex.Candidates {
		if cmp, ok := p.Compare(c, ex.Winner); !ok || cmp > 0 {
			t.Fatalf("candidate %q is ahead of the winner %q (%d, %v)", c, ex.Winner, cmp, ok)
		}
	}
	// The choice does not depend on the order the registry listed tags in.
	rev := slices.Clone(tags)
	slices.Reverse(rev)
	if again := p.Choose(rev); again.Winner != ex.Winner {
		t.Fatalf("winner depends on the order: %q then %q", ex.Winner, again.Winner)
	}
	return ex
}
