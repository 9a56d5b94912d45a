waitBeforeRetry();
