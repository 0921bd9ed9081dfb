package harness

import (
	"testing"
)

func TestParseProcStat(t *testing.T) {
	tests := []struct {
		name         string
		stat         string
		utime, stime uint64
		wantErr      bool
	}{
		{
			name:  "plain-command",
			stat:  "4242 (drift) S 1 4242 4242 0 -1 4194560 9583 0 0 0 731 95 0 0 20 0 12 0 884 2170195968 20733 18446744073709551615",
			utime: 731, stime: 95,
		},
		{
			name:  "command-with-spaces-and-parentheses",
			stat:  "7 (a) b (c)) R 1 7 7 0 -1 0 0 0 0 0 12 34 0 0 20 0 1 0 5 0 0",
			utime: 12, stime: 34,
		},
		{name: "no-command", stat: "7 R 1", wantErr: true},
		{name: "truncated", stat: "7 (x) R 1 2 3", wantErr: true},
		{name: "not-a-number", stat: "7 (x) R 1 7 7 0 -1 0 0 0 0 0 twelve 34 0", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, s, err := ParseProcStat([]byte(tt.stat))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if u != tt.utime || s != tt.stime {
				t.Errorf("utime, stime = %d, %d; want %d, %d", u, s, tt.utime, tt.stime)
			}
		})
	}
}

func TestProcessCPUGrowsWithWork(t *testing.T) {
	before, err := ProcessCPU()
	if err != nil {
		t.Skipf("no /proc/self/stat here: %v", err)
	}
	x := 0
	for i := range 200_000_000 { // about 0.1s of CPU: more than one clock tick
		x ^= i
	}
	after, err := ProcessCPU()
	if err != nil {
		t.Fatal(err)
	}
	if after <= before {
		t.Errorf("CPU time did not grow: %v then %v (x=%d)", before, after, x)
	}
	if after%ClockTick != 0 {
		t.Errorf("CPU time %v is not a multiple of the clock tick", after)
	}
}
