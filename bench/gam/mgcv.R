# bench/gam reference: mgcv bam() with one thin-plate smooth per feature
# (k = 10, fREML, binomial logit), fitted on train.csv, AUC on test.csv.
args <- commandArgs(trailingOnly = TRUE)
suppressMessages(library(mgcv))
tr <- read.csv(file.path(args[1], "train.csv"))
te <- read.csv(file.path(args[1], "test.csv"))
threads <- as.integer(args[2])
f <- as.formula(paste("target ~", paste(sprintf("s(x%d)", 0:9), collapse = " + ")))
t0 <- proc.time()
fit <- bam(f, data = tr, family = binomial(), method = "fREML", nthreads = threads)
t1 <- proc.time()
fit_s <- t1[["elapsed"]] - t0[["elapsed"]]
cpu_s <- (t1[["user.self"]] + t1[["sys.self"]]) - (t0[["user.self"]] + t0[["sys.self"]])
p <- predict(fit, newdata = te, type = "response")
r <- rank(p)
n1 <- sum(te$target == 1); n0 <- sum(te$target == 0)
auc <- (sum(r[te$target == 1]) - n1 * (n1 + 1) / 2) / (n1 * n0)
cat(sprintf("mgcv_fit_s %.3f\nmgcv_cpu_s %.3f\nmgcv_auc %.5f\nmgcv_version %s\n", fit_s, cpu_s, auc,
            as.character(packageVersion("mgcv"))))
