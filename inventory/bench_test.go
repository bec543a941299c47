package inventory

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
)

// sampleHosts are typical records: AnsibleTower hosts with a dozen fields
// and a nested _broker_args, and containers.
func sampleHosts() []Host {
	return []Host{sampleHost(0), sampleHost(1)}
}

func sampleHost(i int) Host {
	if i%2 == 1 {
		return Host{
			FieldName:     fmt.Sprintf("mahuser_%08x", i),
			FieldHostname: fmt.Sprintf("localhost:%d", 32768+i%20000),
			FieldProvider: "Container",
			FieldInstance: "podman",
			FieldArgs: map[string]any{
				"container_host": "localhost/ubi8:latest", "_broker_origin": "broker_cli:mahuser",
				"provider_labels": map[string]any{"team": "qe"},
			},
			"type":          "host",
			"exposed_ports": map[string]any{"22": fmt.Sprint(32768 + i%20000)},
			"image":         []any{"localhost/ubi8:latest"},
			"status":        "running",
		}
	}
	return Host{
		FieldName:     fmt.Sprintf("mahuser-rhel-8.6-%08x", i),
		FieldHostname: fmt.Sprintf("dhcp-%d.test.example.com", i),
		FieldProvider: "AnsibleTower",
		FieldInstance: "rhv",
		FieldArgs: map[string]any{
			"deploy_rhel_version": "8.6", "deploy_scenario": "baserhel", "host_type": "host",
			"workflow": "deploy-rhel", "_broker_origin": "broker_cli:mahuser", "artifacts": "last",
		},
		"tower_inventory":         "rhv-rhvm02",
		"type":                    "host",
		"job_id":                  int64(3000000 + i),
		"os_distribution":         "RHEL",
		"os_distribution_version": "8.6",
		"shutdown_time":           "1779455297",
	}
}

func storeWith(b *testing.B, n int) *Store {
	b.Helper()
	s := New(filepath.Join(b.TempDir(), "inventory.db"), Options{})
	hosts := make([]Host, n)
	for i := range hosts {
		hosts[i] = sampleHost(i)
	}
	if _, err := s.Add(context.Background(), hosts...); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkList10k is List (open, shared lock, read, close, decode) of an
// inventory of 10,000 typical records. Target: about 30 ms.
func BenchmarkList10k(b *testing.B) {
	s := storeWith(b, 10000)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		recs, err := s.List(ctx)
		if err != nil || len(recs) != 10000 {
			b.Fatalf("List: %d records, %v", len(recs), err)
		}
	}
}

// BenchmarkDecodeRecords10k compares the record decoder with encoding/json
// on the same 10,000 values (decoding only).
func BenchmarkDecodeRecords10k(b *testing.B) {
	vals := make([][]byte, 10000)
	for i := range vals {
		vals[i], _ = encodeHost(sampleHost(i))
	}
	b.Run("decodeHost", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			in := newInterner()
			for _, v := range vals {
				if _, err := decodeHost(v, in); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, v := range vals {
				var h Host
				if err := json.Unmarshal(v, &h); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// BenchmarkAdd1 is one checkout's write into a 10,000-record inventory
// (open, exclusive lock, one transaction with its fsyncs, close).
func BenchmarkAdd1(b *testing.B) {
	s := storeWith(b, 10000)
	ctx := context.Background()
	h := sampleHost(0)
	for b.Loop() {
		if _, err := s.Add(ctx, h); err != nil {
			b.Fatal(err)
		}
	}
}
