package broker_test

import (
	"testing"
	"time"

	"github.com/broker-go/broker"
	"github.com/broker-go/broker/internal/awxfake"
)

// BenchmarkAnsibleTowerCheckout10 checks out 10 hosts at once from the AWX
// double whose deploy workflow takes 2 seconds: the launches and polls
// overlap, so the wall time stays close to one workflow's duration. It
// reports the HTTP requests each checkout costs.
func BenchmarkAnsibleTowerCheckout10(b *testing.B) {
	cfg := awxfake.Fixture()
	for i := range cfg.Workflows {
		if cfg.Workflows[i].Name == "deploy-rhel" {
			cfg.Workflows[i].Timing = awxfake.Timing{Duration: 2 * time.Second}
		}
	}
	s := awxfake.New(cfg)
	defer s.Close()
	br, err := broker.New(broker.Options{Dir: b.TempDir(), Environ: []string{}, Overrides: map[string]any{
		"AnsibleTower.base_url": s.URL, "AnsibleTower.token": "fixture-token", "AnsibleTower.workflow_poll_interval": 0.5,
	}})
	if err != nil {
		b.Fatal(err)
	}
	var wall time.Duration
	for b.Loop() {
		s.Reset()
		start := time.Now()
		res, err := br.Checkout(b.Context(), broker.CheckoutOptions{ArgsRequest: broker.ArgsRequest{Args: broker.Args{"workflow": "deploy-rhel"}}, Count: 10})
		if err != nil {
			b.Fatal(err)
		}
		wall += time.Since(start)
		b.ReportMetric(float64(s.Count(""))/10, "requests/checkout")
		b.StopTimer()
		if _, err := br.Checkin(b.Context(), broker.CheckinOptions{Records: res.Records}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(wall.Seconds()/float64(b.N), "s/checkout-of-10")
}
