package harness

import (
	"os"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func TestParseVmHWM(t *testing.T) {
	got, err := ParseVmHWM("Name:\tflotilla\nVmPeak:\t 1000 kB\nVmHWM:\t   51200 kB\nVmRSS:\t 40000 kB\n")
	if err != nil || got != 51200*1024 {
		t.Fatalf("ParseVmHWM = %d, %v; want %d", got, err, 51200*1024)
	}
	if _, err := ParseVmHWM("Name:\tx\n"); err == nil {
		t.Fatal("no VmHWM line: want an error")
	}
}

func TestProcUsageOfThisProcess(t *testing.T) {
	u, err := ProcUsage(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if u.PeakRSS < 1<<20 {
		t.Errorf("peak RSS %d bytes: a Go test binary holds more than 1 MiB", u.PeakRSS)
	}
}

func TestRESTRequestsSumsByMethod(t *testing.T) {
	text := `# TYPE rest_client_requests_total counter
rest_client_requests_total{code="200",host="h",method="GET"} 3
rest_client_requests_total{code="404",host="h",method="GET"} 2
rest_client_requests_total{code="200",host="h",method="PATCH"} 7
# TYPE other_total counter
other_total{method="GET"} 100
`
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	var list []*dto.MetricFamily
	for _, f := range fams {
		list = append(list, f)
	}
	got := RESTRequests(list)
	if got["GET"] != 5 || got["PATCH"] != 7 || len(got) != 2 {
		t.Errorf("RESTRequests = %v, want GET 5 PATCH 7", got)
	}
}
