// Command benchtool supports bench/run: it times whole processes and makes
// test inventories.
//
//	benchtool time [-n RUNS] [-warmup N] -- CMD ARGS...   median/min/max wall time and peak RSS
//	benchtool par N -- CMD ARGS...                         run N copies at once; wall time of the batch
//	benchtool geninv N FILE                                an upstream-style inventory.yaml of N hosts
//
// Output is one JSON object per measurement on stdout.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchtool time|par|geninv ...")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "time":
		err = timeCmd(os.Args[2:])
	case "par":
		err = parCmd(os.Args[2:])
	case "geninv":
		err = genInv(os.Args[2:])
	default:
		err = fmt.Errorf("unknown subcommand %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtool:", err)
		os.Exit(1)
	}
}

type result struct {
	Command   string  `json:"command"`
	Runs      int     `json:"runs"`
	MedianMS  float64 `json:"median_ms"`
	MinMS     float64 `json:"min_ms"`
	MaxMS     float64 `json:"max_ms"`
	MaxRSSMiB float64 `json:"max_rss_mib,omitempty"`
}

func runOnce(argv []string) (time.Duration, int64, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout = nil
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return d, 0, fmt.Errorf("%s: %v\n%s", strings.Join(argv, " "), err, stderr.String())
	}
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss // KiB on Linux
	}
	return d, rss, nil
}

func timeCmd(args []string) error {
	fs := flag.NewFlagSet("time", flag.ContinueOnError)
	n := fs.Int("n", 20, "runs")
	warm := fs.Int("warmup", 2, "warm-up runs (not counted)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	argv := fs.Args()
	if len(argv) == 0 {
		return fmt.Errorf("time: no command")
	}
	for i := 0; i < *warm; i++ {
		if _, _, err := runOnce(argv); err != nil {
			return err
		}
	}
	var ds []float64
	var maxRSS int64
	for i := 0; i < *n; i++ {
		d, rss, err := runOnce(argv)
		if err != nil {
			return err
		}
		ds = append(ds, float64(d.Microseconds())/1000)
		if rss > maxRSS {
			maxRSS = rss
		}
	}
	sort.Float64s(ds)
	return json.NewEncoder(os.Stdout).Encode(result{
		Command: strings.Join(argv, " "), Runs: *n,
		MedianMS: ds[len(ds)/2], MinMS: ds[0], MaxMS: ds[len(ds)-1],
		MaxRSSMiB: float64(maxRSS) / 1024,
	})
}

// parCmd runs N copies of a command at once ("{}" in an argument is replaced
// by the copy's index) and reports the wall time of the whole batch.
func parCmd(args []string) error {
	if len(args) < 2 {
		return fmt.Errorf("par: want N -- CMD")
	}
	var n int
	if _, err := fmt.Sscan(args[0], &n); err != nil {
		return err
	}
	argv := args[1:]
	if argv[0] == "--" {
		argv = argv[1:]
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := make([]string, len(argv))
			for j, s := range argv {
				a[j] = strings.ReplaceAll(s, "{}", fmt.Sprint(i))
			}
			_, _, errs[i] = runOnce(a)
		}()
	}
	wg.Wait()
	d := time.Since(start)
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	ms := float64(d.Microseconds()) / 1000
	return json.NewEncoder(os.Stdout).Encode(result{Command: fmt.Sprintf("%d x %s", n, strings.Join(argv, " ")), Runs: 1, MedianMS: ms, MinMS: ms, MaxMS: ms})
}

func genInv(args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("geninv: want N FILE")
	}
	var n int
	if _, err := fmt.Sscan(args[0], &n); err != nil {
		return err
	}
	f, err := os.Create(args[1])
	if err != nil {
		return err
	}
	defer f.Close()
	for i := 0; i < n; i++ {
		ver := []string{"8.6", "8.7", "9.2", "9.4"}[i%4]
		fmt.Fprintf(f, `- _broker_args:
    deploy_rhel_version: '%s'
    workflow: deploy-rhel
    _broker_origin: broker_cli:bench
  _broker_provider: AnsibleTower
  _broker_provider_instance: prod
  hostname: host-%05d.example.com
  name: bench-rhel-%s-%05d
  os_distribution: RHEL
  os_distribution_version: '%s'
  ip: 10.%d.%d.%d
  tower_inventory: inv-%d
  type: host
`, ver, i, ver, i, ver, i/65536%256, i/256%256, i%256, i%7)
	}
	return nil
}
