expectRequestMetrics('/auth/login');
