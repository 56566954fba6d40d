import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { CommonEnv, type CommonConfig, commonConfig, validateEnv } from '@app/config';

export class TodoEnv extends CommonEnv {
  @IsOptional()
  @IsInt({ message: 'must be a TCP port number' })
  @Min(1)
  @Max(65535)
  PORT: number = 3000;

  @IsOptional()
  @Matches(/^mongodb(\+srv)?:\/\/\S+$/, { message: 'must be a mongodb:// or mongodb+srv:// URI' })
  MONGODB_URI: string = 'mongodb://127.0.0.1:27017/downstream';

  @IsOptional()
  @Matches(/^https?:\/\/\S+$/, { message: 'must be an http:// or https:// URL' })
  EVENT_API_URL: string = 'http://127.0.0.1:3001';
}

export interface TodoConfig extends CommonConfig {
  mongodb: { uri: string };
  eventApi: { url: string };
}

export function loadTodoConfig(env: NodeJS.ProcessEnv): TodoConfig {
  const valid = validateEnv(TodoEnv, env);
  return {
    ...commonConfig(valid, valid.PORT),
    mongodb: { uri: valid.MONGODB_URI },
    eventApi: { url: valid.EVENT_API_URL.replace(/\/+$/, '') },
  };
}
