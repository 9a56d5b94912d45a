expectHealthy('notification_service');
