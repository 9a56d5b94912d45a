expectBearerToken('account_second_token', 'account_token');
