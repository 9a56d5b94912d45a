expectVerified({ id: 'direct_user_id', username: 'direct_username', email: 'direct_email' });
