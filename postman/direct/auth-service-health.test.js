expectHealthy('auth_service');
