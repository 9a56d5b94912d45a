expectBearerToken('account_token', 'account_old_token');
