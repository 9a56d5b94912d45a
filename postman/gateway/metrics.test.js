expectRequestMetrics();
