# results/MANIFEST.sha256: every deterministic artifact of the study and its sha256, written
# last. `tinyeit verify MANIFEST` checks a rebuild against it (tinyeit.manifest says which
# files carry measured timings and are left out).


rule manifest:
    input:
        "results/summary.json",
        rules.report.output,
    output:
        "results/MANIFEST.sha256",
    log:
        "logs/manifest.log",
    conda:
        ENV
    shell:
        "tinyeit manifest --results results --out {output} > {log} 2>&1"
