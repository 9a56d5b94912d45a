expectRequestMetrics('/notifications');
